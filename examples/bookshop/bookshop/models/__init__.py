from bookshop.models.book import Author, Book, Sale

__all__ = ["Author", "Book", "Sale"]
