"""The domain and its storage. No Flask here."""
