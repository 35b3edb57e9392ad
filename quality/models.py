"""Quality models are added here."""
