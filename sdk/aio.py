"""Async resources next to the sync ones: what concurrent callers need most, running many detections at once.

async with sdk.AsyncClient() as client:
    model = sdk.AsyncModel(client, "pcb", "1")
    results = await asyncio.gather(*(model.detect(path) for path in paths))
"""

import asyncio
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sdk._transport import api_path
from sdk.client import AsyncClient
from sdk.detection import DetectionResult, ImageInput, image_payload


@dataclass(frozen=True)
class AsyncModel:
    client: AsyncClient
    project_name: str
    model_version: str

    def _path(self, *segments: str) -> str:
        return api_path("projects", self.project_name, "models", self.model_version, *segments)

    async def describe(self) -> dict[str, Any]:
        """The DescribeModel answer's ModelDescription."""
        answer = await self.client.request("GET", self._path())
        description: dict[str, Any] = answer["ModelDescription"]
        return description

    async def detect(self, image: ImageInput) -> DetectionResult:
        """DetectAnomalies; files are read in a worker thread so many detections overlap."""
        body, content_type = await asyncio.to_thread(image_payload, image)
        answer = await self.client.request(
            "POST", self._path("detect"), content=body, headers={"Content-Type": content_type}
        )
        source = str(image) if isinstance(image, str | os.PathLike) else None
        return DetectionResult(answer["DetectAnomalyResult"], source=source, human_review=answer.get("HumanReview"))

    async def detect_many(
        self, images: Iterable[ImageInput], *, concurrency: int = 8
    ) -> list[DetectionResult | BaseException]:
        """Detect on every image, at most `concurrency` in flight; a failed image's slot holds its exception."""
        limit = asyncio.Semaphore(concurrency)

        async def one(image: ImageInput) -> DetectionResult:
            async with limit:
                return await self.detect(image)

        return await asyncio.gather(*(one(image) for image in images), return_exceptions=True)
