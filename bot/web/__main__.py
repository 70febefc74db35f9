"""`python -m bot.web`: run the web app with settings from the environment."""
import sys

from .app import main

if __name__ == "__main__":
    sys.exit(main())
