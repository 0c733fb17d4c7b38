"""The uploader: CG File API client, resumable journal, and a local sandbox of the API."""
