"""Who must be told of a change, and telling them. No Flask here."""
