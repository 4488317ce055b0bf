# Copyright (c) Microsoft Corporation.
# Licensed under the MIT license.

# NOTE: Don't remove this file. This file ensures that `../ut/__init__.py` is loaded first.
