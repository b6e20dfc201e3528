"""The chat domain's route modules, each an ``APIRouter`` that ``chat/router.py`` includes."""
