"""Profiles: the vocabulary and rules that make the analyzers company-specific."""

from callscope.profile.model import DEFAULT_PROFILE, Profile, ProfileError, load_profile

__all__ = ["DEFAULT_PROFILE", "Profile", "ProfileError", "load_profile"]
