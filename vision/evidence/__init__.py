"""Evidence stage: the crop and snapshot each observation keeps for review, and their retention."""
