"""What is computed of a prediction or a review: probabilities, losses, calibration, review metadata."""
