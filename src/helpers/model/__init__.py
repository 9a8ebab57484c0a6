"""Where the weights come from and how they load: the learner's choice of source (:mod:`.sources`), the packaged
model (:mod:`.packaged`, built once into a folder by :mod:`.folder`), the weight formats (:mod:`.formats`),
and :func:`~helpers.model.loading.load_model` (:mod:`.loading`)."""
