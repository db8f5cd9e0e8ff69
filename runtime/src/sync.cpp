// placeholder: coordination layer (sync) lands here
