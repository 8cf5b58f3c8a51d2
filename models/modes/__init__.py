"""What pix2pix.py's --mode runs, one module a mode (train, test, translate, export), and
what training alone needs: its schedule of events, the machine's devices (distribute), and
the checkpoints a run leaves (tf1_checkpoints: reading the original's).

These may import anything in models/.
"""
