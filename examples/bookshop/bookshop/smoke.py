"""The bookshop's smoke flow: an author, a book, a sale, the book listed — over real HTTP."""

from __future__ import annotations

import secrets

import httpx

from harness.flow import StepRecorder, expect, expect_status
from harness.system import SystemInfo


async def flow(system: SystemInfo, http: httpx.AsyncClient, steps: StepRecorder) -> None:
    base = system.app_url
    async with steps.step("author"):
        author = expect_status(
            await http.post(f"{base}/authors", json={"name": f"A. {secrets.token_hex(3)}"}), 201
        )
    async with steps.step("book"):
        book = expect_status(
            await http.post(
                f"{base}/books",
                json={"title": "Dune", "author_id": author["id"], "price": "12.50"},
            ),
            201,
        )
    async with steps.step("sale"):
        sale = expect_status(
            await http.post(f"{base}/sales", json={"book_id": book["id"], "quantity": 3}), 201
        )
        expect(sale["amount"] == "37.50", f"3 x 12.50 charged {sale['amount']}")
    async with steps.step("listed"):
        listed = expect_status(await http.get(f"{base}/books"), 200)
        expect(any(b["id"] == book["id"] for b in listed), "the new book is not listed")
