"""``AmlConfig``: trials run on an Azure Machine Learning compute cluster (``platform: aml``)."""

from __future__ import annotations

from ..training_service import TrainingServiceConfig
from ..utils.internal import checked, is_bool, is_non_empty_str, is_positive_int

__all__ = ['AmlConfig']


class AmlConfig(TrainingServiceConfig):
    """Run trials on Azure Machine Learning (AML).

    The four Azure names can be found in the ``config.json`` that AML's portal offers for a
    workspace.

    Parameters
    ----------
    platform
        ``'aml'``.
    subscription_id
        Azure subscription ID.
    resource_group
        Azure resource group of the workspace.
    workspace_name
        AML workspace name.
    compute_target
        Name of the AML compute cluster that runs the trials.
    docker_image
        Image the trials run in.
    max_trial_number_per_gpu
        How many trials may share one GPU.
    use_active_gpu
        Whether GPUs already busy with other processes may be used. Listed by NNI's AML guide
        (NNI's class does not accept it); passed on when set.

    Examples
    --------
    >>> AmlConfig(subscription_id='sub', resource_group='rg', workspace_name='ws', compute_target='gpu').docker_image
    'msranni/nni:latest'
    """

    platform: str = 'aml'
    subscription_id: str = checked('an Azure subscription ID', is_non_empty_str)
    resource_group: str = checked('an Azure resource group name', is_non_empty_str)
    workspace_name: str = checked('an AML workspace name', is_non_empty_str)
    compute_target: str = checked('the name of an AML compute cluster', is_non_empty_str)
    docker_image: str = checked('a docker image name such as msranni/nni:latest', is_non_empty_str, default='msranni/nni:latest')
    max_trial_number_per_gpu: int = checked('a positive integer', is_positive_int, default=1)
    use_active_gpu: bool | None = checked('true or false', is_bool, default=None)
