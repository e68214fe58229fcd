"""A minimal ASGI app over the bookshop schema: list books, add authors and books, sell.

No payment gateway, no provider, no login: the harness drives it with no fakes at all. The
engine lives at ``app.state.engine`` (``[tool.harness] engine_attr``); each request owns its
transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Request
from fastapi import Path as FastApiPath
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bookshop.models import Author, Book, Sale

MALFORMED: dict[int | str, dict[str, Any]] = {400: {"description": "the body is not JSON"}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such book or author"}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "already exists"}}


class Settings(BaseModel):
    database_url: str = "postgresql://localhost/bookshop"


class AuthorIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class BookIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    author_id: int = Field(ge=1, le=2**31 - 1)
    # money as a decimal string the OpenAPI schema can state exactly (never a float)
    price: str = Field(pattern=r"^[0-9]{1,8}(\.[0-9]{1,2})?$", examples=["12.50"])


class SaleIn(BaseModel):
    book_id: int = Field(ge=1, le=2**31 - 1)
    quantity: int = Field(ge=1, le=1000)


def _book(book: Book) -> dict[str, Any]:
    return {
        "id": book.id,
        "title": book.title,
        "author_id": book.author_id,
        "price": str(book.price),
    }


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    url = settings.database_url.replace("postgresql://", "postgresql+psycopg://", 1)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = create_async_engine(url, pool_size=5)
        app.state.sessions = async_sessionmaker(app.state.engine, expire_on_commit=False)
        yield
        await app.state.engine.dispose()

    app = FastAPI(title="bookshop", lifespan=lifespan)

    def sessions(request: Request) -> async_sessionmaker[AsyncSession]:
        maker: async_sessionmaker[AsyncSession] = request.app.state.sessions
        return maker

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/books")
    async def list_books(request: Request) -> list[dict[str, Any]]:
        async with sessions(request)() as session:
            books = (await session.execute(select(Book).order_by(Book.id))).scalars().all()
            return [_book(b) for b in books]

    @app.get("/books/{book_id}", responses=NOT_FOUND)
    async def get_book(
        request: Request, book_id: Annotated[int, FastApiPath(ge=1, le=2**31 - 1)]
    ) -> dict[str, Any]:
        async with sessions(request)() as session:
            book = await session.get(Book, book_id)
            if book is None:
                raise HTTPException(404, "no such book")
            return _book(book)

    @app.post("/authors", status_code=201, responses={**MALFORMED, **CONFLICT})
    async def add_author(body: AuthorIn, request: Request) -> dict[str, Any]:
        try:
            async with sessions(request)() as session, session.begin():
                author = Author(name=body.name)
                session.add(author)
                await session.flush()
                return {"id": author.id, "name": author.name}
        except IntegrityError:
            raise HTTPException(409, "author exists") from None

    @app.post("/books", status_code=201, responses={**MALFORMED, **NOT_FOUND})
    async def add_book(body: BookIn, request: Request) -> dict[str, Any]:
        async with sessions(request)() as session, session.begin():
            if await session.get(Author, body.author_id) is None:
                raise HTTPException(404, "no such author")
            price = Decimal(body.price).quantize(Decimal("0.01"))
            book = Book(title=body.title, author_id=body.author_id, price=price)
            session.add(book)
            await session.flush()
            return _book(book)

    @app.post("/sales", status_code=201, responses={**MALFORMED, **NOT_FOUND})
    async def sell(body: SaleIn, request: Request) -> dict[str, Any]:
        async with sessions(request)() as session, session.begin():
            book = await session.get(Book, body.book_id)
            if book is None:
                raise HTTPException(404, "no such book")
            sale = Sale(book_id=book.id, quantity=body.quantity, amount=book.price * body.quantity)
            session.add(sale)
            await session.flush()
            return {
                "id": sale.id,
                "book_id": book.id,
                "quantity": sale.quantity,
                "amount": str(sale.amount),
            }

    return app
