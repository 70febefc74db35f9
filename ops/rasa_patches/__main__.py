"""`python -m ops.rasa_patches run ...`: `rasa run ...` with the patches installed."""
from ops.rasa_patches import main

main()
