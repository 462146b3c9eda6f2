"""Domain classifiers (paper Table 5) for other stages: `load_classifier(path).predict(images)`.

The implementation (training, per-domain binary models, demo ImageFolder) lives in mednarratives.videos.classify;
this module is the stable import path named in config (articles.filter.classifier_loader).
"""

from mednarratives.videos.classify import DomainClassifier, load_classifier  # noqa: F401
