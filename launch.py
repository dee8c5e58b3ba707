"""Start the studio on the shipped checkpoints: `python launch.py [--share --auth user:pass] ...`."""

import argparse
import sys

from ganstudio.ui.launcher import add_launch_arguments, serve


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Start ganstudio in the browser.")
    add_launch_arguments(parser)
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
