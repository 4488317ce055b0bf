"""Storage of the Kubernetes platforms (Kubeflow, FrameworkController): NFS or Azure File.

YAML always produces the base class :class:`K8sStorageConfig` (the type is in ``storageType``);
:class:`K8sNfsConfig` and :class:`K8sAzureStorageConfig` are the Python spellings that preset
the type. All three compare equal when their fields are equal. The fields each type needs
are checked by ``storageType``, whichever class holds them.
"""

from __future__ import annotations

from ..base import ConfigBase
from ..utils.internal import Problems, checked, is_non_empty_str, show

__all__ = ['K8sAzureStorageConfig', 'K8sNfsConfig', 'K8sStorageConfig']

STORAGE_TYPES = ('nfs', 'azureStorage')

# fields each storage type needs; the other type's fields must stay unset
_FIELDS_BY_TYPE = {
    'nfs': ('server', 'path'),
    'azureStorage': ('azure_account', 'azure_share', 'key_vault_name', 'key_vault_key'),
}


class K8sStorageConfig(ConfigBase):
    """Storage that holds trial code and outputs of a Kubernetes platform (``storage`` in YAML).

    Parameters
    ----------
    storage_type
        ``'nfs'`` (uses ``server`` and ``path``) or ``'azureStorage'`` (uses ``azure_account``,
        ``azure_share``, ``key_vault_name`` and ``key_vault_key``).
    azure_account
        Azure storage account name.
    azure_share
        Azure File share name.
    key_vault_name
        Azure Key Vault holding the storage account key.
    key_vault_key
        Name of the Key Vault secret holding the storage account key.
    server
        NFS server host name or IP.
    path
        Directory exported by the NFS server.
    """

    _expect = 'a storage config such as {storageType: nfs, server: 10.0.0.5, path: /exports/nni}'

    storage_type: str = checked('one of ' + ', '.join(repr(t) for t in STORAGE_TYPES), lambda v: v in STORAGE_TYPES)
    azure_account: str | None = checked('an Azure storage account name', is_non_empty_str, default=None)
    azure_share: str | None = checked('an Azure File share name', is_non_empty_str, default=None)
    key_vault_name: str | None = checked('an Azure Key Vault name', is_non_empty_str, default=None)
    key_vault_key: str | None = checked('a Key Vault secret name', is_non_empty_str, default=None)
    server: str | None = checked('an NFS server host name or IP', is_non_empty_str, default=None)
    path: str | None = checked('the directory exported by the NFS server', is_non_empty_str, default=None)

    @classmethod
    def _equality_class(cls) -> type:
        return K8sStorageConfig

    def _validate_extra(self, path: str, problems: Problems) -> None:
        storage_type = self.storage_type
        if not isinstance(storage_type, str) or storage_type not in _FIELDS_BY_TYPE:
            return  # reported by the field check
        for name in _FIELDS_BY_TYPE[storage_type]:
            field_path = self._field_path(name, path)
            if getattr(self, name) is None and not problems.has(field_path):
                problems.add(field_path, f'not set, required when storageType is {storage_type!r}')
        for other_type, names in _FIELDS_BY_TYPE.items():
            if other_type == storage_type:
                continue
            for name in names:
                field_path = self._field_path(name, path)
                value = getattr(self, name)
                if value is not None and not problems.has(field_path):
                    problems.add(
                        field_path,
                        f'is only used when storageType is {other_type!r}, got {show(value)} with storageType '
                        f'{storage_type!r}; remove it',
                    )


class K8sNfsConfig(K8sStorageConfig):
    """NFS storage of a Kubernetes platform.

    Parameters
    ----------
    storage_type
        ``'nfs'`` (preset).
    server
        NFS server host name or IP (required).
    path
        Directory exported by the NFS server (required).

    Examples
    --------
    >>> K8sNfsConfig(server='10.0.0.5', path='/exports/nni').json()
    {'storageType': 'nfs', 'server': '10.0.0.5', 'path': '/exports/nni'}
    """

    storage_type: str = checked("'nfs'", lambda v: v == 'nfs', default='nfs')
    server: str = checked('an NFS server host name or IP', is_non_empty_str)
    path: str = checked('the directory exported by the NFS server', is_non_empty_str)


class K8sAzureStorageConfig(K8sStorageConfig):
    """Azure File storage of a Kubernetes platform; the account key is read from Azure Key Vault.

    Parameters
    ----------
    storage_type
        ``'azureStorage'`` (preset).
    azure_account
        Azure storage account name (required).
    azure_share
        Azure File share name (required).
    key_vault_name
        Azure Key Vault holding the storage account key (required).
    key_vault_key
        Name of the Key Vault secret holding the storage account key (required).
    """

    storage_type: str = checked("'azureStorage'", lambda v: v == 'azureStorage', default='azureStorage')
    azure_account: str = checked('an Azure storage account name', is_non_empty_str)
    azure_share: str = checked('an Azure File share name', is_non_empty_str)
    key_vault_name: str = checked('an Azure Key Vault name', is_non_empty_str)
    key_vault_key: str = checked('a Key Vault secret name', is_non_empty_str)


def is_k8s_storage(value: object) -> bool:
    """Whether ``value`` is a Kubernetes storage config (of any of the three classes)."""
    return isinstance(value, K8sStorageConfig)

