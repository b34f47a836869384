"""The one import of `audioop` (stdlib up to 3.12, the `audioop-lts` package from 3.13)."""

import warnings

with warnings.catch_warnings():
    # 3.11/3.12 warn that the stdlib module goes away in 3.13; audioop-lts takes over there.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

__all__ = ["audioop"]
