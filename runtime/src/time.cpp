// placeholder: coordination layer (time) lands here
