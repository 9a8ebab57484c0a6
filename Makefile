# Thin wrappers: the logic lives in bootstrap.py and `python -m helpers` (see README.md).
PYTHON ?= python3

.PHONY: lab restore test prepare

lab:      ## set everything up, then start JupyterLab in your working copy of the lessons (my-work/, made on first start)
	$(PYTHON) bootstrap.py lab

restore:  ## put one lesson of my-work/ back as published: make restore LESSON=06 (LESSON=zh/06: the Chinese one)
	$(PYTHON) bootstrap.py restore $(LESSON)

test:     ## set everything up, then run every test (unit tests and every published notebook under nbval)
	$(PYTHON) bootstrap.py test

prepare:  ## set up and prepare the model only
	$(PYTHON) bootstrap.py prepare
