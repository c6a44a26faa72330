"""What every part of the Discord adapter shares: how numbers and times read, the Bureau's embeds,
guild look-ups and permission checks, autocomplete, views that belong to one member."""
