"""The similar-shots view: bursts and brackets for culling (issue 9)."""
