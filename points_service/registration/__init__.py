"""In-service Party members' registration with their residential community (双报到)."""
