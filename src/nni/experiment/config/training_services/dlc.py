"""``DlcConfig``: trials run on Alibaba Cloud PAI-DLC (``platform: dlc``)."""

from __future__ import annotations

from ..training_service import TrainingServiceConfig
from ..utils.internal import checked, is_non_empty_str, is_positive_int

__all__ = ['DlcConfig']

JOB_TYPES = ('TFJob', 'PyTorchJob')


class DlcConfig(TrainingServiceConfig):
    """Run trials on PAI-DLC (deep learning containers of Alibaba Cloud), started from PAI-DSW.

    DSW (where NNI runs) and DLC (where trials run) mount the same NAS storage, at
    ``local_storage_mount_point`` and ``container_storage_mount_point``.

    Parameters
    ----------
    platform
        ``'dlc'``.
    type
        Job spec type of the pods.
    image
        Image the trial pods run.
    job_type
        ``'TFJob'`` or ``'PyTorchJob'``.
    pod_count
        Pods of each trial job.
    ecs_spec
        ECS instance spec of the pods, such as ``'ecs.c6.large'``.
    region
        Region of the DLC public cluster, such as ``'cn-hangzhou'``.
    workspace_id
        ID of the PAI workspace.
    nas_data_source_id
        ID of the NAS data source configured in DLC.
    oss_data_source_id
        ID of an OSS data source configured in DLC, if the data is on OSS.
    access_key_id
        Access key ID of the Alibaba Cloud account.
    access_key_secret
        Access key secret of the Alibaba Cloud account.
    local_storage_mount_point
        Where the NAS is mounted on the DSW machine; kept as written (NNI does not resolve it).
    container_storage_mount_point
        Where the NAS is mounted in the DLC pods.
    """

    platform: str = 'dlc'
    type: str = checked('a job spec type such as Worker', is_non_empty_str, default='Worker')
    image: str = checked('a docker image name', is_non_empty_str)
    job_type: str = checked('one of ' + ', '.join(repr(t) for t in JOB_TYPES), lambda v: v in JOB_TYPES, default='TFJob')
    pod_count: int = checked('a positive integer', is_positive_int)
    ecs_spec: str = checked('an ECS instance spec such as ecs.c6.large', is_non_empty_str)
    region: str = checked('a region such as cn-hangzhou', is_non_empty_str)
    workspace_id: str = checked('a PAI workspace ID', is_non_empty_str)
    nas_data_source_id: str = checked('a NAS data source ID', is_non_empty_str)
    oss_data_source_id: str | None = checked('an OSS data source ID', is_non_empty_str, default=None)
    access_key_id: str = checked('an access key ID', is_non_empty_str)
    access_key_secret: str = checked('an access key secret', is_non_empty_str)
    local_storage_mount_point: str = checked('a path (the NAS mount point on this machine)', is_non_empty_str)
    container_storage_mount_point: str = checked('a path (the NAS mount point in the pods)', is_non_empty_str)
