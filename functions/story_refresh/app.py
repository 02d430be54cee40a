"""The daily refresh: re-seeds every stale story (each sandbox seeded around another day than today) around today.

Run by the StoryRefreshSchedule rule early each morning (UTC), by hand with
`sam remote invoke StoryRefreshFunction`, and locally with `make refresh`.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import refresh
from squelch.observability import observed


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return refresh.refresh_stale_stories()
