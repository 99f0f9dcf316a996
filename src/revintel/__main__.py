"""``python -m revintel``: the same as the ``revintel`` command."""

from revintel.cli import main

if __name__ == "__main__":
    main()
