"""PubMed Central articles: package sources (fetch), JATS parsing (jats), sub-caption splitting (subcaptions)."""
