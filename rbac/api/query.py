from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

FORCE_PARAMETER = OpenApiParameter(
    "force", OpenApiTypes.BOOL, description="Delete even if still assigned, removing the assignments"
)
