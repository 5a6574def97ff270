"""Making models: training sets built from labelled images (and, as the scripts grow into it, the
export and start-checkpoint steps of ``scripts/train.py``).

``scripts/`` are the command lines; what two of them share lives here, imported like the rest of the
package. Nothing on the serving path (``vision run``, ``vision serve``) imports this package.
"""
