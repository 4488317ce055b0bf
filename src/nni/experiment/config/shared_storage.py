"""``SharedStorageConfig``: a storage mounted both here and on the training machines.

YAML always produces this base class (as in NNI); the per-type classes :class:`NfsConfig` and
:class:`AzureBlobConfig` preset ``storage_type`` and make the fields of their type required.
The type-specific required fields are checked by ``storage_type`` whichever class holds them,
and all three classes compare equal when their fields are equal.
"""

from __future__ import annotations

from .base import ConfigBase
from .utils.internal import Problems, checked, is_non_empty_str, is_path
from .utils.public import PathLike

__all__ = ['AzureBlobConfig', 'NfsConfig', 'SharedStorageConfig']

STORAGE_TYPES = ('NFS', 'AzureBlob')
LOCAL_MOUNTED = ('usermount', 'nnimount', 'nomount')

# fields a storage type cannot work without
_REQUIRED_BY_TYPE = {
    'NFS': ('nfs_server', 'exported_directory'),
    'AzureBlob': ('storage_account_name', 'container_name'),
}


class SharedStorageConfig(ConfigBase):
    """Shared storage (``sharedStorage`` in YAML).

    Parameters
    ----------
    storage_type
        ``'NFS'`` or ``'AzureBlob'``.
    local_mount_point
        Where the storage is (or will be) mounted on this machine; resolved to an absolute path.
        Keep it outside the trial code directory: the code is copied there.
    remote_mount_point
        Where it is mounted on the training machines.
    local_mounted
        ``'usermount'`` (already mounted by the user), ``'nnimount'`` (NNI mounts it) or
        ``'nomount'`` (not mounted locally).
    storage_account_name
        Azure storage account name (AzureBlob; required for that type).
    storage_account_key
        Azure storage account key (AzureBlob).
    container_name
        Azure Blob container name (AzureBlob; required for that type).
    nfs_server
        Host name or IP of the NFS server (NFS; required for that type).
    exported_directory
        Directory exported by the NFS server (NFS; required for that type).
    """

    _expect = 'a shared storage config with storageType NFS or AzureBlob'

    storage_type: str = checked('one of ' + ', '.join(repr(t) for t in STORAGE_TYPES), lambda v: v in STORAGE_TYPES)
    local_mount_point: PathLike = checked('a path', is_path)
    remote_mount_point: str = checked('a string (a path on the training machines)', is_non_empty_str)
    local_mounted: str = checked('one of ' + ', '.join(repr(m) for m in LOCAL_MOUNTED), lambda v: v in LOCAL_MOUNTED)
    storage_account_name: str | None = checked('a string', is_non_empty_str, default=None)
    storage_account_key: str | None = checked('a string', is_non_empty_str, default=None)
    container_name: str | None = checked('a string', is_non_empty_str, default=None)
    nfs_server: str | None = checked('a string (host name or IP of the NFS server)', is_non_empty_str, default=None)
    exported_directory: str | None = checked('a string (the exported path on the NFS server)', is_non_empty_str, default=None)

    @classmethod
    def _equality_class(cls) -> type:
        return SharedStorageConfig

    def _validate_extra(self, path: str, problems: Problems) -> None:
        for name in _REQUIRED_BY_TYPE.get(self.storage_type, ()) if isinstance(self.storage_type, str) else ():
            field_path = self._field_path(name, path)
            if getattr(self, name) is None and not problems.has(field_path):
                problems.add(field_path, f'not set, required when storageType is {self.storage_type!r}')


class NfsConfig(SharedStorageConfig):
    """NFS shared storage.

    Parameters
    ----------
    storage_type
        ``'NFS'`` (preset).
    nfs_server
        Host name or IP of the NFS server (required).
    exported_directory
        Directory exported by the NFS server (required).

    Examples
    --------
    >>> NfsConfig(local_mount_point='/mnt/nfs', remote_mount_point='/mnt/nfs', local_mounted='usermount',
    ...           nfs_server='10.0.0.5', exported_directory='/exports').storage_type
    'NFS'
    """

    storage_type: str = checked("'NFS'", lambda v: v == 'NFS', default='NFS')
    nfs_server: str = checked('a string (host name or IP of the NFS server)', is_non_empty_str)
    exported_directory: str = checked('a string (the exported path on the NFS server)', is_non_empty_str)


class AzureBlobConfig(SharedStorageConfig):
    """Azure Blob shared storage.

    Parameters
    ----------
    storage_type
        ``'AzureBlob'`` (preset).
    storage_account_name
        Azure storage account name (required).
    storage_account_key
        Azure storage account key (optional).
    container_name
        Azure Blob container name (required).
    """

    storage_type: str = checked("'AzureBlob'", lambda v: v == 'AzureBlob', default='AzureBlob')
    storage_account_name: str = checked('a string', is_non_empty_str)
    container_name: str = checked('a string', is_non_empty_str)
