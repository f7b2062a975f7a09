"""Progress bars of the commands (tqdm: small, pure Python, ubiquitous)."""

from __future__ import annotations

from tqdm import tqdm


class LazyBar:
    """A tqdm bar drawn at its first update, so that nothing is drawn before MAME is up
    (a missing ROM is then the only output, not under a 0/5000 bar)."""

    def __init__(self, disable: bool = False, **options: object) -> None:
        self.options, self.disable, self.bar = options, disable, None

    def update(self, n: int = 1) -> None:
        if self.bar is None:
            self.bar = tqdm(disable=self.disable, **self.options)  # type: ignore[call-overload]
        self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
