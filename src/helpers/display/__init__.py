"""What the lessons display: token and id tables (:mod:`.tables`, :mod:`.tokens`), highlighted chat templates
(:mod:`.rendering`), the model's anatomy (:mod:`.anatomy`), versions and the machine (:mod:`.environment`), captured
warnings (:mod:`.logs`) and a ticking progress bar (:mod:`.progress`)."""
