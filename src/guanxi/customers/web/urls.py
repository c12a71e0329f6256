"""URLs of the customers app's pages; each feature keeps its own list, all in the "customers" namespace."""

from guanxi.customers.web import urls_activities, urls_customers, urls_leads, urls_pool

app_name = "customers"

urlpatterns = [
    *urls_customers.urlpatterns,
    *urls_leads.urlpatterns,
    *urls_activities.urlpatterns,
    *urls_pool.urlpatterns,
]
