"""``python -m lkframes``: the same as the ``lkframes`` command."""

from lkframes._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
