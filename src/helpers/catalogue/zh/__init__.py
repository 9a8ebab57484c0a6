"""The Chinese catalogue (中文): the same modules, keys and fields as ``catalogue/en``, in Chinese."""
