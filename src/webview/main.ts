document.body.dataset.onbehalf = "loaded";
