// placeholder: coordination layer (chan) lands here
