"""Cursor traces and boxes from stable chunks (paper 3.2.4)."""
