"""The catalog: the taxonomy of data categories and purposes, and the customer fields."""
