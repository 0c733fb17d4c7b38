"""``python -m cgformat``."""

from cgformat.cli import main

if __name__ == "__main__":
    main()
