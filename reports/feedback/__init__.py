"""Submitter data-quality feedback packs (CSV + HTML per practice or provider per month)."""

from reports.feedback.builder import FeedbackCounts, FeedbackPack, build_submitter_feedback

__all__ = ["FeedbackCounts", "FeedbackPack", "build_submitter_feedback"]
