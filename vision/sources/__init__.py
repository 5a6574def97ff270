"""Source stage: where frames come from (files now; cameras and streams join here)."""
