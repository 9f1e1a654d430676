"""Oracles behind one interface: ground truth, weak models, humans."""
