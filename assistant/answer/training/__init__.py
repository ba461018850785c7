"""Training the reader: its examples, batches, loop, export and calibration (run by answer/train.py)."""
