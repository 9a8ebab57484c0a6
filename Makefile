# Thin wrappers: the logic lives in bootstrap.py and `python -m helpers` (see README.md).
PYTHON ?= python3

.PHONY: lab test prepare

lab:      ## set everything up, then start JupyterLab at notebooks/
	$(PYTHON) bootstrap.py lab

test:     ## set everything up, then run every test (unit tests and every notebook under nbval)
	$(PYTHON) bootstrap.py test

prepare:  ## set up and prepare the model only
	$(PYTHON) bootstrap.py prepare
