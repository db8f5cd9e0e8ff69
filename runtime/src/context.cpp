// placeholder: coordination layer (context) lands here
