"""The API speaks the client's language: `Accept-Language: en` gives English messages.

Django's LocaleMiddleware gives every path without a language prefix the default language
(French), as the public site's URLs want; the API's paths carry no prefix, so this middleware,
placed after it, reads the language of API requests from `Accept-Language` instead (French when
the header names no language the registry speaks) and says it in `Content-Language`.
"""
from django.utils import translation

API_PREFIX = "/api/"


class APILanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        language = translation.get_language_from_request(request, check_path=False)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
