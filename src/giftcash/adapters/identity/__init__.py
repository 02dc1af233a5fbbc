"""Identity-verification providers (본인인증) behind ``service.ports.IdentityPort``."""
