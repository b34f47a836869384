"""Speech recognition measured on real voices over a simulated phone line (`bridge wer`).

`corpus.py` loads the recordings (for any tool that needs real speech with known words),
`build.py` rebuilds the part of the corpus not kept in git, `phone_line.py` puts a clip through
a phone line (band-limit, 8 kHz mu-law, noise), `wer.py` scores transcripts and `run.py` runs
the recogniser over the corpus for each setting.
"""
