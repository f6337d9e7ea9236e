"""A realistic, generated demo data set: Czech, Pakistani and English customers."""
