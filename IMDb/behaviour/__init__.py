"""A behavioural test suite for binary movie-review sentiment, written for this project.

`lexicon` holds the small word lists, `suite` the tests (templates expanded with a seed into
cases), `scoring` their failure rates for any ``predict(texts) -> probabilities`` function. Three
kinds of test, after CheckList (Ribeiro et al., ACL 2020): MFT (a label is expected), INV (a
perturbation must not change the predicted label) and DIR (an added sentence must move p(positive)
one way).
"""
